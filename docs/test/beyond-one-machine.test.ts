import { testGuide } from './run-guide';

testGuide('beyond-one-machine.md');
