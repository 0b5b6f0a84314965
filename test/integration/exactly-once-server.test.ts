import { defineExactlyOnceSuite } from './suites/exactly-once-suite.js';

defineExactlyOnceSuite('ClickHouse server 18.16', true);
