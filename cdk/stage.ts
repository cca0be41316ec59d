/** The deployment stages this app knows, validated where they enter (CDK context). */
import { z } from 'zod';

export const stageSchema = z.enum(['dev', 'prod']);

export type Stage = z.infer<typeof stageSchema>;
