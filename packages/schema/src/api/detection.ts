import { z } from 'zod';
import { timestamp } from '../tetragon/scalars';

export const DETECTION_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type DetectionSeverity = (typeof DETECTION_SEVERITIES)[number];

/** One process of a detection's ancestor chain, nearest first. */
export interface DetectionAncestor {
  execId?: string;
  pid?: number;
  binary?: string;
}

/** A rule's finding about one process, with the events that made it fire. */
export interface Detection {
  /** The store's id; increases with every detection stored. */
  id: number;
  /** The rule's stable name, such as "shell-under-server-runtime". */
  rule: string;
  severity: DetectionSeverity;
  title: string;
  /** When the last evidence event happened, in the store's sortable time form. */
  time: string;
  /** The source (agent or import) the evidence belongs to. */
  source: string;
  nodeName?: string;
  execId: string;
  pid?: number;
  binary?: string;
  /** The parent, grandparent, ... of the process as the rule saw them. */
  ancestors: DetectionAncestor[];
  /** Store ids of the events that made the rule fire. */
  evidenceEventIds: number[];
  /** One or two sentences for the responder: what was seen and why it matters. */
  explanation: string;
}

export const detectionListInputSchema = z
  .object({
    execId: z.string().min(1).optional(),
    severity: z.enum(DETECTION_SEVERITIES).optional(),
    /** Severity at least this one: "high" also lists critical. */
    minSeverity: z.enum(DETECTION_SEVERITIES).optional(),
    rule: z.string().min(1).optional(),
    node: z.string().min(1).optional(),
    since: timestamp.optional(),
    until: timestamp.optional(),
    limit: z.number().int().min(1).max(10_000).default(100),
    /**
     * The next page: only detections listed after this one, newest first. Pass the `time`
     * and `id` of the last detection of the previous page.
     */
    before: z
      .object({ time: z.string().min(1), id: z.number().int().min(1) })
      .strict()
      .optional(),
  })
  .default({ limit: 100 });

export type DetectionListInput = z.input<typeof detectionListInputSchema>;
export type DetectionFilters = z.output<typeof detectionListInputSchema>;

export const detectionLiveInputSchema = z
  .object({
    minSeverity: z.enum(DETECTION_SEVERITIES).optional(),
    rule: z.string().min(1).optional(),
  })
  .default({});
