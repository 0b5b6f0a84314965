export { startS3Server, S3_KEY, S3_SECRET, type S3Server } from '../../scripts/local-s3-server.js';
