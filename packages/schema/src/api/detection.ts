import { z } from 'zod';

export type DetectionSeverity = 'low' | 'medium' | 'high' | 'critical';

/** A rule's finding about one process, with the events that made it fire. */
export interface Detection {
  /** The rule's stable name, such as "shell-under-java". */
  rule: string;
  severity: DetectionSeverity;
  /** When the last evidence event happened (RFC 3339). */
  time: string;
  execId: string;
  /** Store ids of the events that made the rule fire. */
  evidenceEventIds: number[];
  /** One or two sentences for the responder: what was seen and why it matters. */
  explanation: string;
}

export const detectionListInputSchema = z
  .object({
    execId: z.string().min(1).optional(),
    severity: z.enum(['low', 'medium', 'high', 'critical']).optional(),
    limit: z.number().int().min(1).max(10_000).default(100),
  })
  .default({ limit: 100 });

export type DetectionListInput = z.input<typeof detectionListInputSchema>;
