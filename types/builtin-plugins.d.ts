declare module "logbook:builtin-plugins" {
  const plugins: Array<{
    id: string
    source: string
    load(): Promise<{ default: import("../src/plugin/contract").LogbookPlugin }>
  }>
  export default plugins
}
