/** Who is calling, as far as the audit log is concerned. */
export interface RequestContext {
  ip: string;
  userAgent: string | null;
}
