declare module "logbook:builtin-plugins" {
  const plugins: Array<{ plugin: import("../src/plugin/contract").LogbookPlugin; source: string }>
  export default plugins
}
