import { project } from '../../vitest.shared';

// The browser test builds the page, trains a tiny model and runs Chromium: minutes, not seconds.
export default project('@ldl/example-web', { testTimeout: 300_000 });
