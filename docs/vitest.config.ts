import { mergeConfig } from 'vitest/config';
import { project } from '../vitest.shared';

// The guides' blocks run in their own working directories (process.chdir), which worker threads cannot do:
// each test file runs in a child process (vitest's default pool, stated here because the tests need it).
export default mergeConfig(project('@ldl/docs'), { test: { pool: 'forks' } });
