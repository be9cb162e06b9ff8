import pkg from "../package.json" with { type: "json" }

/** Logbook's version (package.json) and the git commit it was built from, when known. */
export const VERSION: string = pkg.version
export const RELEASE_ID: string = process.env.LOGBOOK_RELEASE_ID ?? ""
