// Types of fast-json-patch's ES modules of operations (module/core.mjs, helpers.mjs), which the package
// ships without a declaration of its own: the same functions as its main entry.
declare module 'fast-json-patch/module/core.mjs' {
  export { applyOperation } from 'fast-json-patch';
}
declare module 'fast-json-patch/module/helpers.mjs' {
  export { unescapePathComponent } from 'fast-json-patch';
}
