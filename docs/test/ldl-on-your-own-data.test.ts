import { testGuide } from './run-guide';

testGuide('ldl-on-your-own-data.md');
