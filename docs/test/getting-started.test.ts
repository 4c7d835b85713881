import { testGuide } from './run-guide';

testGuide('getting-started.md');
