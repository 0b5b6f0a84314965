import { useServerStore } from '../helpers/embedded.js';
import { defineOddInputSuite } from './suites/odd-input-suite.js';

useServerStore();
defineOddInputSuite('ClickHouse server 18.16');
