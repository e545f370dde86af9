/**
 * Seeded synthetic data for the two example pipelines (customer churn, house prices).
 *
 * Everything here is pure: no I/O, no `Math.random`, no clock. The same options give the same
 * rows on every machine, so the demo data, the tests and a user's drifted batch are reproducible.
 *
 * Every generated row consumes a fixed number of random draws whatever `drift` is, so
 * `drift: 0` and `drift: 0.5` with the same seed describe the same population, shifted: the
 * difference between two batches is the drift, not a reshuffle.
 */

/** A seeded pseudo-random number generator. */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Normal with the given mean and standard deviation (Box–Muller; consumes two uniforms). */
  normal(mean?: number, sd?: number): number;
  /** Index drawn with probability proportional to `weights[i]` (consumes one uniform). */
  choice(weights: readonly number[]): number;
}

/**
 * Mulberry32: a tiny 32-bit PRNG. Only integer ops (`Math.imul`, shifts), so its stream is
 * bit-identical on every platform. Not cryptographic; plenty for synthetic data.
 */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Creates a seeded {@link Rng}.
 *
 * @param seed - any integer; it is taken modulo 2^32.
 */
export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const next = mulberry32(seed);
  return {
    uniform: next,
    normal(mean = 0, sd = 1) {
      // 1 - u keeps the log argument in (0, 1]; the second Box–Muller variate is dropped on
      // purpose so every normal() costs exactly two uniforms (see the module comment).
      const u1 = 1 - next();
      const u2 = next();
      return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    choice(weights) {
      const total = weights.reduce((sum, w) => sum + w, 0);
      if (!(total > 0) || weights.some((w) => w < 0)) {
        throw new RangeError('choice() needs non-negative weights with a positive sum');
      }
      let target = next() * total;
      for (const [i, weight] of weights.entries()) {
        target -= weight;
        if (target < 0) return i;
      }
      return weights.length - 1; // float rounding left a sliver: give it to the last bucket
    },
  };
}

/** Options shared by the dataset generators. */
export interface GenerateOptions {
  /** Number of rows (a non-negative integer). */
  rows: number;
  /** Integer seed; same seed and options give identical rows. */
  seed: number;
  /**
   * Drift strength in [0, 1]: 0 is the reference distribution, 1 the strongest shift.
   * Effects scale linearly with it.
   */
  drift?: number;
}

function checkOptions({ rows, drift = 0 }: GenerateOptions): number {
  if (!Number.isInteger(rows) || rows < 0) {
    throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  }
  if (!(drift >= 0 && drift <= 1)) throw new RangeError(`drift must be in [0, 1], got ${drift}`);
  return drift;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** One of `items`, drawn with `weights` (same length); the fallback only satisfies the type checker. */
const pick = <T>(rng: Rng, items: readonly [T, ...T[]], weights: readonly number[]): T => items[rng.choice(weights)] ?? items[0];

/** Poisson draw by inverting the CDF with one uniform (a fixed draw count, unlike Knuth's). */
function poisson(rng: Rng, lambda: number): number {
  const u = rng.uniform();
  let k = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  while (u >= cdf && k < 1000) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

// ---------------------------------------------------------------------------------------------
// Churn (classification)
// ---------------------------------------------------------------------------------------------

/** Subscription plans, cheapest first. */
export const PLANS = ['basic', 'pro', 'enterprise'] as const;
/** Sales regions. */
export const REGIONS = ['na', 'eu', 'apac'] as const;

/** One customer of a SaaS product; `churned` is the label. */
export interface ChurnRow {
  customer_id: string;
  tenure_months: number;
  monthly_spend: number;
  support_tickets: number;
  seats: number;
  plan: (typeof PLANS)[number];
  region: (typeof REGIONS)[number];
  churned: 'yes' | 'no';
}

/** Churn columns in CSV order (the label last). */
export const CHURN_COLUMNS = [
  'customer_id',
  'tenure_months',
  'monthly_spend',
  'support_tickets',
  'seats',
  'plan',
  'region',
  'churned',
] as const satisfies readonly (keyof ChurnRow)[];

// Per-plan seat count (log-normal: mu, sigma, bounds) and list price per seat.
const SEATS = {
  basic: { mu: 0.8, sigma: 0.5, min: 1, max: 10, pricePerSeat: 12 },
  pro: { mu: 2.2, sigma: 0.5, min: 3, max: 60, pricePerSeat: 25 },
  enterprise: { mu: 3.7, sigma: 0.6, min: 20, max: 500, pricePerSeat: 38 },
} as const;

// Logit contributions per category: basic customers leave more, enterprise contracts stick.
const PLAN_EFFECT = { basic: 0.7, pro: 0, enterprise: -1.2 } as const;
const REGION_EFFECT = { na: 0, eu: 0.15, apac: 0.35 } as const;

/**
 * Generates SaaS customer-churn rows for a classification model.
 *
 * The label follows a noisy logistic model: churn grows with support tickets and falls with
 * tenure and seats; basic plans churn more, enterprise less. A latent per-customer noise term
 * keeps a logistic regression around 0.8 accuracy instead of a trivial 1.0, and about a quarter
 * of customers churn.
 *
 * `drift` (covariate shift): shorter tenure, more support tickets, more basic plans and a
 * growing apac share. It also shifts the concept: tickets matter more and tenure protects less.
 */
export function generateChurn(options: GenerateOptions): ChurnRow[] {
  const drift = checkOptions(options);
  const rng = createRng(options.seed);
  const planWeights = [0.5 + 0.2 * drift, 0.35 - 0.1 * drift, 0.15 - 0.1 * drift];
  const regionWeights = [0.5 - 0.15 * drift, 0.3 - 0.1 * drift, 0.2 + 0.25 * drift];
  const rows: ChurnRow[] = [];
  for (let i = 0; i < options.rows; i++) {
    const plan = pick(rng, PLANS, planWeights);
    const region = pick(rng, REGIONS, regionWeights);
    const tenure = Math.round(clamp(Math.exp(rng.normal(Math.log(20) - 0.4 * drift, 0.9)), 1, 120));
    const s = SEATS[plan];
    const seats = Math.round(clamp(Math.exp(rng.normal(s.mu, s.sigma)), s.min, s.max));
    // Negotiated discounts make spend per seat vary around the list price.
    const spend = round(seats * s.pricePerSeat * Math.exp(rng.normal(0, 0.15)), 2);
    const ticketRate = (0.8 + 0.35 * Math.log(seats)) * (1 + 0.6 * drift);
    const tickets = poisson(rng, ticketRate);
    const logit =
      -1.1 +
      1.0 * (1 + 0.25 * drift) * tickets -
      0.09 * (1 - 0.25 * drift) * tenure -
      0.15 * Math.log(seats) +
      PLAN_EFFECT[plan] +
      REGION_EFFECT[region] +
      rng.normal(0, 0.5); // unobserved customer mood: caps achievable accuracy
    const churned = rng.uniform() < sigmoid(logit) ? 'yes' : 'no';
    rows.push({
      customer_id: `c${pad(i + 1, 6)}`,
      tenure_months: tenure,
      monthly_spend: spend,
      support_tickets: tickets,
      seats,
      plan,
      region,
      churned,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// House prices (regression)
// ---------------------------------------------------------------------------------------------

/** Neighbourhoods, with the traits that shape their listings. */
export const NEIGHBOURHOODS = ['old_town', 'riverside', 'hillside', 'docklands', 'suburbs'] as const;
type Neighbourhood = (typeof NEIGHBOURHOODS)[number];

// Typical distance to the centre (km), typical building age (years), price per m².
const AREA_TRAITS: Record<Neighbourhood, { km: number; age: number; perSqm: number }> = {
  old_town: { km: 1.5, age: 80, perSqm: 6200 },
  riverside: { km: 4, age: 30, perSqm: 5000 },
  hillside: { km: 7, age: 40, perSqm: 4000 },
  docklands: { km: 5, age: 8, perSqm: 4600 },
  suburbs: { km: 13, age: 25, perSqm: 3000 },
};

/** One property listing; `price` is the label. */
export interface HousePriceRow {
  listing_id: string;
  area_sqm: number;
  bedrooms: number;
  age_years: number;
  distance_km: number;
  neighbourhood: Neighbourhood;
  price: number;
}

/** House-price columns in CSV order (the label last). */
export const HOUSE_PRICE_COLUMNS = [
  'listing_id',
  'area_sqm',
  'bedrooms',
  'age_years',
  'distance_km',
  'neighbourhood',
  'price',
] as const satisfies readonly (keyof HousePriceRow)[];

/**
 * Generates house-price listings for a regression model.
 *
 * Price is roughly area × a neighbourhood price per m², discounted for distance and age, plus a
 * little per bedroom, with multiplicative noise: close enough to linear for a ridge model to
 * reach an R² around 0.8, not so clean that it is perfect.
 *
 * `drift`: smaller flats, listings further out, a growing docklands share, and a higher overall
 * price level (up to +20% at drift 1).
 */
export function generateHousePrices(options: GenerateOptions): HousePriceRow[] {
  const drift = checkOptions(options);
  const rng = createRng(options.seed);
  const weights = [0.15 - 0.05 * drift, 0.2, 0.2, 0.1 + 0.15 * drift, 0.35 - 0.1 * drift];
  const rows: HousePriceRow[] = [];
  for (let i = 0; i < options.rows; i++) {
    const neighbourhood = pick(rng, NEIGHBOURHOODS, weights);
    const t = AREA_TRAITS[neighbourhood];
    const area = round(clamp(Math.exp(rng.normal(Math.log(85) - 0.2 * drift, 0.35)), 20, 400), 1);
    const bedrooms = Math.round(clamp(area / 28 + rng.normal(0, 0.6), 1, 7));
    const age = Math.round(clamp(t.age * Math.exp(rng.normal(0, 0.5)), 0, 150));
    const distance = round(clamp(t.km * Math.exp(rng.normal(0.15 * drift, 0.35)), 0.2, 60), 2);
    const level = 1 + 0.3 * drift;
    const value = area * t.perSqm * (1 - 0.012 * Math.min(distance, 40)) * (1 - 0.002 * Math.min(age, 120)) + 6000 * bedrooms;
    const price = Math.round(value * level * Math.exp(rng.normal(0, 0.16)));
    rows.push({
      listing_id: `h${pad(i + 1, 6)}`,
      area_sqm: area,
      bedrooms,
      age_years: age,
      distance_km: distance,
      neighbourhood,
      price,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Serialisation
// ---------------------------------------------------------------------------------------------

/** A value that can be written to a CSV cell; null and undefined become an empty cell. */
export type CsvValue = string | number | boolean | null | undefined;

function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // RFC 4180: quote when the cell holds a delimiter, a quote or a line break; double the quotes.
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Serialises rows as CSV with a header line and `\n` line endings (a trailing newline included).
 *
 * @param rows - the records to write.
 * @param columns - the columns, in order; defaults to the keys of the first row.
 */
export function toCsv<T extends object>(
  rows: readonly T[],
  columns: readonly (keyof T & string)[] = Object.keys(rows[0] ?? {}) as (keyof T & string)[],
): string {
  const lines = [columns.map(csvCell).join(',')];
  for (const row of rows) {
    lines.push(columns.map((c) => csvCell(row[c] as CsvValue)).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Serialises rows as JSON Lines: one JSON object per line, with a trailing newline. */
export function toJsonLines(rows: readonly object[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}
