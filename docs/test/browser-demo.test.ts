import { testGuide } from './run-guide';

testGuide('browser-demo.md');
