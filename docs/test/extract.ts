// Writes the guides' TypeScript blocks to docs/.doctest/ for `tsc` (the `typecheck` script of @ldl/docs).
import { rmSync } from 'node:fs';
import { DOCTEST_DIR, guideBlocks, guideFiles, writeTsModules } from './blocks';

rmSync(DOCTEST_DIR, { recursive: true, force: true });
const blocks = guideFiles().flatMap(guideBlocks);
writeTsModules(blocks);
console.log(`docs: ${blocks.filter((b) => b.action.kind === 'ts').length} TypeScript modules written for the type check`);
