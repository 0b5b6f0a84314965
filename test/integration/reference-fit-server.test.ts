import { useServerStore } from '../helpers/embedded.js';
import { defineReferenceFitSuite } from './suites/reference-fit-suite.js';

useServerStore();
defineReferenceFitSuite('ClickHouse server 18.16');
