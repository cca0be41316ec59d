/**
 * The CDK app (`npx cdk synth|deploy`). Context: `stage` (`dev` | `prod`, default `dev`),
 * e.g. `npx cdk deploy -c stage=prod`; `alarmTopicArn` (an existing SNS topic for the
 * alarms) or `alarmEmail` (an address the created alarm topic emails). Tenants and API
 * keys live in the state table (`npm run admin`). A thin user of the `Browserfleet`
 * construct (cdk/browserfleet.ts), which a team embeds in its own app the same way.
 */
import { App } from 'aws-cdk-lib';
import { buildApp } from './build-app.js';

const app = new App();
buildApp(
  {
    stage: app.node.tryGetContext('stage'),
    alarmTopicArn: app.node.tryGetContext('alarmTopicArn'),
    alarmEmail: app.node.tryGetContext('alarmEmail'),
  },
  app,
);
