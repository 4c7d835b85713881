// Writes the guides' TypeScript blocks to docs/.doctest/ for `tsc` (the `typecheck` script of @ldl/docs).
import { writeTsBlocks } from './blocks';

const blocks = writeTsBlocks();
console.log(`docs: ${blocks.filter((b) => b.action.kind === 'ts').length} TypeScript blocks written for the type check`);
