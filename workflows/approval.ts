// The approval state machine of a retraining run: pending → approved | rejected | timed-out.
// Pure (no Temporal API is called here), so it is tested directly; the workflow only wires its
// methods to the approve/reject signals and updates and decides when the wait ends.
import type { Pipeline } from '../lib/pipeline';
import { checkApprovalDecision, type ApprovalDecision } from '../shared/messages';
import type { ApprovalState } from '../shared/status';

/** How a pipeline wants its candidates approved: automatically, or by listed people within a timeout. */
export type ApprovalPolicy = Pipeline['approval'];

/** What a decision asks for. */
export type ApprovalAction = 'approve' | 'reject';

/** Where a decision that did not count is reported (the workflow passes its `log`). */
export interface ApprovalLog {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** The approval part of a new run's status: nothing decided, nothing ignored. */
export function initialApprovalState(policy: ApprovalPolicy): ApprovalState {
  return {
    required: policy.mode === 'manual',
    approvers: policy.mode === 'manual' ? policy.approvers : [],
    decision: null,
    by: null,
    reason: null,
    at: null,
    ignored: [],
  };
}

/**
 * Holds a run's {@link ApprovalState} and applies decisions to it. The state object is mutated
 * in place, so a status that embeds it always shows the latest decision.
 */
export class ApprovalMachine {
  /**
   * @param state usually the run status's own `approval` field
   * @param context the model (for log lines) and the candidate version, read when a decision arrives
   */
  constructor(
    private readonly policy: ApprovalPolicy,
    readonly state: ApprovalState,
    private readonly context: { model: string; candidate: () => string | null; log: ApprovalLog },
  ) {}

  /** True when the pipeline asks a person to approve each candidate. */
  get required(): boolean {
    return this.policy.mode === 'manual';
  }

  /** True while the run waits for a decision. */
  get waiting(): boolean {
    return this.state.decision === 'pending';
  }

  /** True once the candidate is approved, by a person or by the timeout policy. */
  get approved(): boolean {
    return this.state.decision === 'approved';
  }

  /**
   * The body of the approve/reject signal handlers (and of the updates, after their validator):
   * it mutates and returns nothing. A decision that does not count is kept as "ignored", with
   * why, for the audit.
   */
  decide(action: ApprovalAction, raw: ApprovalDecision, now: Date): void {
    const checked = checkApprovalDecision(raw);
    const by = checked.ok ? checked.decision.by : String((raw as { by?: unknown })?.by ?? '?');
    const why = checked.ok ? this.refusal(checked.decision) : `invalid payload: ${checked.problems.join('; ')}`;
    if (why) {
      this.state.ignored.push({ by, action, why, at: now.toISOString() });
      this.context.log.warn(`ignored ${action} from ${by}: ${why}`, {
        model: this.context.model,
        version: this.context.candidate(),
        step: 'approval',
      });
      return;
    }
    this.state.decision = action === 'approve' ? 'approved' : 'rejected';
    this.state.by = by;
    this.state.reason = checked.ok ? checked.decision.reason : null;
    this.state.at = now.toISOString();
  }

  /**
   * The validator of the approve/reject updates: throws with the reason a decision would not
   * count, so a refused update never enters history and its caller learns why.
   */
  validate(raw: ApprovalDecision): void {
    const checked = checkApprovalDecision(raw);
    if (!checked.ok) throw new Error(`invalid decision: ${checked.problems.join('; ')}`);
    const why = this.refusal(checked.decision);
    if (why) throw new Error(why);
  }

  /** Starts the wait: from now on, a listed approver's decision counts. */
  open(): void {
    this.state.decision = 'pending';
  }

  /** Ends a wait nobody answered in time, as the pipeline's `onTimeout` policy says. */
  timeOut(now: Date): void {
    if (this.policy.mode !== 'manual') throw new Error('this pipeline does not need approval');
    this.state.decision = this.policy.onTimeout === 'approve' ? 'approved' : 'timed-out';
    this.state.by = 'timeout';
    this.state.reason = `no decision within ${this.policy.timeout}; policy: ${this.policy.onTimeout}`;
    this.state.at = now.toISOString();
  }

  /** One line for the audit: what was decided, by whom, and why when a reason was given. */
  summary(): string {
    const { decision, by, reason } = this.state;
    return `${decision} by ${by}${reason ? `: ${reason}` : ''}`;
  }

  /** Why a well-formed decision does not count, or null when it does. */
  private refusal(d: { by: string; version?: string }): string | null {
    if (this.policy.mode !== 'manual') return 'this pipeline does not need approval';
    const { decision } = this.state;
    if (decision !== 'pending') return decision ? `already ${decision}` : 'the run is not waiting for approval yet';
    if (!this.policy.approvers.includes(d.by)) return `${d.by} is not a listed approver (${this.policy.approvers.join(', ')})`;
    const candidate = this.context.candidate();
    if (d.version && d.version !== candidate) return `decision is for ${d.version}, but the candidate is ${candidate}`;
    return null;
  }
}
