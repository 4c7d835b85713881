/**
 * `@ldl/core/node`: the helpers of `@ldl` that need Node.js, kept off the browser-safe root entry.
 *
 * @module @ldl/core/node
 */
export { parseCsv, parseDecimal, type CsvRow, type CsvTable } from './csv';
