// Types of fast-json-patch's ES module of operations (module/core.mjs), which the package
// ships without a declaration of its own: the same function as its main entry. The ES
// module is strict-mode code, so a write into a primitive throws there, where the
// CommonJS entry's sloppy-mode code would silently do nothing.
declare module 'fast-json-patch/module/core.mjs' {
  export { applyOperation } from 'fast-json-patch';
}
