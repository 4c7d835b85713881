import { testGuide } from './run-guide';

testGuide('backends-and-speed.md');
