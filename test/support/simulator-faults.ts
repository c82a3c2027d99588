import express, { type Request, type RequestHandler } from "express";

/** One HTTP request a simulator answered. */
export interface RequestRecord {
  /** HTTP method. */
  method: string;
  /** URL path as received, without the query (e.g. `/api/v4/projects/1/statuses/<sha>`). */
  path: string;
  /** Response status code. */
  status: number;
  /** Whether the response came from `failNext`. */
  injected: boolean;
  /** When the request arrived (`Date.now()`). */
  at: number;
  /**
   * The status a commit status post named (GitHub's `context`, GitLab's `name`): posts of different
   * statuses may interleave, and a test tells a retry from another status by it.
   */
  statusContext?: string;
}

/** Which requests a fault applies to; omitted fields match anything. */
export interface FaultMatcher {
  /** HTTP method, case-insensitive. */
  method?: string;
  /** Prefix of the path, with or without the simulator's REST prefix (`/api/v3`, `/api/v4`). */
  pathPrefix?: string;
}

/** A canned response used by fault injection. */
export interface FaultResponse {
  /** HTTP status. */
  status: number;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
  /** JSON body; defaults to the forge's error body for the status. */
  body?: unknown;
  /**
   * Let the request through first and only then answer with this fault, as a forge whose proxy
   * fails after the backend acted (the comment exists, the client sees a 502). JSON routes only.
   */
  afterHandling?: boolean;
}

/** A forge simulator's fault injection: canned responses waiting for the requests they match, and the log of every request answered. */
export class FaultPlan {
  /** Every request answered, in order. */
  readonly requests: RequestRecord[] = [];
  private readonly pending: Array<{ matcher: FaultMatcher; responses: FaultResponse[] }> = [];
  private readonly holds: Array<{ matcher: FaultMatcher; action: () => Promise<void> }> = [];

  /**
   * @param apiPrefix the REST prefix a matcher's `pathPrefix` may leave out.
   * @param errorBody the forge's error body for a status, sent when a fault names no body.
   */
  constructor(
    private readonly apiPrefix: string,
    private readonly errorBody: (status: number) => unknown,
  ) {}

  /** Queues `responses` for the next requests matching `matcher`, one each, in order. */
  add(matcher: FaultMatcher, responses: FaultResponse[]): void {
    if (responses.length > 0) this.pending.push({ matcher, responses: [...responses] });
  }

  /**
   * Holds the next request matching `matcher` until `action` is done, then answers it as usual: a
   * test acts at a known point of a job (stops the API server once the job fetches its code).
   */
  holdNext(matcher: FaultMatcher, action: () => Promise<void>): void {
    this.holds.push({ matcher, action });
  }

  /** Middleware that logs each request once answered and answers it from the plan when a fault matches. */
  middleware(): RequestHandler {
    const answer = this.answer();
    return (req, res, next) => {
      const hold = this.holds.find(({ matcher }) => this.fits(matcher, req.method, req.path));
      if (hold === undefined) return answer(req, res, next);
      this.holds.splice(this.holds.indexOf(hold), 1);
      hold.action().then(
        () => answer(req, res, next),
        (error: unknown) => next(error),
      );
    };
  }

  /** Logs a request once answered, and answers it from the plan when a fault matches. */
  private answer(): RequestHandler {
    return (req, res, next) => {
      const record: RequestRecord = { method: req.method, path: req.path, status: 0, injected: false, at: Date.now() };
      res.on("finish", () => {
        record.status = res.statusCode;
        const context = statusContextOf(req);
        if (context !== undefined) record.statusContext = context;
        this.requests.push(record);
      });
      const fault = this.take(req.method, req.path);
      if (fault === undefined) {
        next();
        return;
      }
      record.injected = true;
      const answer = () =>
        res
          .status(fault.status)
          .set(fault.headers ?? {})
          .json(fault.body ?? this.errorBody(fault.status));
      if (fault.afterHandling !== true) {
        // The body is read first, as the forge reads it before refusing, so the log says what was refused.
        readBody(req, res, () => answer());
        return;
      }
      // The route runs and acts; whatever it answers is replaced by the fault.
      const json = res.json.bind(res);
      res.status = () => res;
      res.json = () => {
        res.statusCode = fault.status;
        res.set(fault.headers ?? {});
        return json(fault.body ?? this.errorBody(fault.status));
      };
      next();
    };
  }

  /** Whether a request fits `matcher`. */
  private fits(matcher: FaultMatcher, method: string, path: string): boolean {
    const relative = path.startsWith(this.apiPrefix) ? path.slice(this.apiPrefix.length) : path;
    return (
      (matcher.method === undefined || matcher.method.toUpperCase() === method) &&
      (matcher.pathPrefix === undefined ||
        relative.startsWith(matcher.pathPrefix) ||
        path.startsWith(matcher.pathPrefix))
    );
  }

  /** The first queued response whose matcher fits, removed from the plan. */
  private take(method: string, path: string): FaultResponse | undefined {
    const entry = this.pending.find(({ matcher }) => this.fits(matcher, method, path));
    const response = entry?.responses.shift();
    if (entry !== undefined && entry.responses.length === 0) this.pending.splice(this.pending.indexOf(entry), 1);
    return response;
  }
}

/** Parses a JSON or form body the way the simulators' routes do, then calls `done` (also when the body is malformed). */
function readBody(req: Request, res: Parameters<RequestHandler>[1], done: () => void): void {
  express.json({ limit: "25mb" })(req, res, () =>
    express.urlencoded({ extended: false, limit: "25mb" })(req, res, () => done()),
  );
}

/** The status a commit status post names, from its body or query; undefined for any other request. */
function statusContextOf(req: Request): string | undefined {
  if (req.method !== "POST" || !/\/statuses\//.test(req.path)) return undefined;
  const body: unknown = req.body;
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const value = fields["context"] ?? fields["name"] ?? req.query["context"] ?? req.query["name"];
  return typeof value === "string" ? value : undefined;
}
