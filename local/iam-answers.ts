/**
 * How AWS says no, service by service, so the SDK raises the very error it would on AWS:
 * AccessDenied in each service's wire shape and wording, and the answer to an access key
 * id nobody issued.
 */
import { randomUUID } from 'node:crypto';
import type { Answer, FaultService } from './aws-faults.js';
import type { AuthorizationRequest } from './iam-requests.js';

const s3ErrorAnswer = (status: number, code: string, message: string, method: string | undefined): Answer => {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Message>` +
    `<RequestId>${requestId}</RequestId><HostId>${Buffer.from(requestId).toString('base64')}</HostId></Error>`;
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    // A HEAD answer has no body; the SDK reads the status (403 → `Forbidden`).
    body: method === 'HEAD' ? '' : body,
  };
};

const AWS_JSON_1_0 = 'application/x-amz-json-1.0';

const jsonAnswer = (status: number, body: object, extra: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': AWS_JSON_1_0, 'x-amzn-requestid': randomUUID(), ...extra },
  body: JSON.stringify(body),
});

/**
 * AWS's wording: "User: <principal> is not authorized to perform: <action> on resource:
 * <arn> because no identity-based policy allows the <action> action" (or "with an
 * explicit deny in an identity-based policy"). SQS spells its actions in lower case; S3
 * quotes the resource.
 */
export const accessDenied = (
  service: FaultService,
  principal: string,
  request: AuthorizationRequest,
  explicit: boolean,
  method: string | undefined,
): Answer => {
  const action = service === 'sqs' ? request.action.toLowerCase() : request.action;
  const resource = service === 's3' ? `"${request.resource}"` : request.resource;
  const why = explicit
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${action} action`;
  const message = `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  if (service === 'dynamodb') {
    return jsonAnswer(400, { __type: 'com.amazon.coral.service#AccessDeniedException', Message: message });
  }
  if (service === 'sqs') {
    // The JSON protocol is query-compatible: the query error code rides in a header.
    return jsonAnswer(
      403,
      { __type: 'com.amazon.coral.service#AccessDeniedException', message },
      { 'x-amzn-query-error': 'AccessDenied;Sender' },
    );
  }
  return s3ErrorAnswer(403, 'AccessDenied', message, method);
};

/** A key no part owns: what each service answers for an access key id it has never issued. */
export const unknownKey = (service: FaultService, method: string | undefined): Answer => {
  if (service === 'dynamodb') {
    return jsonAnswer(400, {
      __type: 'com.amazon.coral.service#UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  }
  if (service === 'sqs') {
    return jsonAnswer(
      403,
      {
        __type: 'com.amazon.coral.service#InvalidClientTokenId',
        message: 'The security token included in the request is invalid.',
      },
      { 'x-amzn-query-error': 'InvalidClientTokenId;Sender' },
    );
  }
  return s3ErrorAnswer(
    403,
    'InvalidAccessKeyId',
    'The AWS Access Key Id you provided does not exist in our records.',
    method,
  );
};
