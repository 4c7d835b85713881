import { testGuide } from './run-guide';

testGuide('training-on-your-own-data.md');
