import { useServerStore } from '../helpers/embedded.js';
import { defineBadInputSuite } from './suites/bad-input-suite.js';

useServerStore();
defineBadInputSuite('ClickHouse server 18.16');
