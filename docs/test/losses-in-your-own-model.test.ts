import { testGuide } from './run-guide';

testGuide('losses-in-your-own-model.md');
