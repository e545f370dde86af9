/**
 * Neumaier-compensated running sum. numpy sums pairwise (error ~log n ulps); a naive loop over
 * 1e6 rows drifts by ~n ulps, which could approach the 1e-9 we promise. Compensation keeps the
 * error at about one ulp.
 */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) >= Math.abs(x)) this.compensation += this.sum - t + x;
    else this.compensation += x - t + this.sum;
    this.sum = t;
  }

  value(): number {
    return this.sum + this.compensation;
  }
}
