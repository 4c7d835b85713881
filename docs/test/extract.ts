// Writes the guides' TypeScript blocks to docs/.doctest/typecheck/ for `tsc` (the `typecheck` script of
// @ldl/docs); the tests write theirs to docs/.doctest/test/, so the two can run at the same time.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { DOCTEST_DIR, guideBlocks, guideFiles, writeTsModules } from './blocks';

const root = path.join(DOCTEST_DIR, 'typecheck');
rmSync(root, { recursive: true, force: true });
const blocks = guideFiles().flatMap(guideBlocks);
writeTsModules(blocks, root);
console.log(`docs: ${blocks.filter((b) => b.action.kind === 'ts').length} TypeScript modules written to ${path.relative(process.cwd(), root)} for the type check`);
