/**
 * The CDK app (`npx cdk synth|deploy`). Context: `stage` (`dev` | `prod`, default `dev`)
 * and `apiKey` (required for prod), e.g. `npx cdk deploy -c stage=prod -c apiKey=…`.
 */
import { App } from 'aws-cdk-lib';
import { buildApp } from './build-app.js';

const app = new App();
buildApp({ stage: app.node.tryGetContext('stage'), apiKey: app.node.tryGetContext('apiKey') }, app);
