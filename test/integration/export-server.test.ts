import { useServerStore } from '../helpers/embedded.js';
import { defineExportSuite } from './suites/export-suite.js';

useServerStore();
defineExportSuite('ClickHouse server 18.16');
