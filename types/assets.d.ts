declare module "*.css" {
  const path: string
  export default path
}
declare module "*.svg" {
  const path: string
  export default path
}
declare module "*.min.js" {
  const path: string
  export default path
}
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string
  export default path
}
