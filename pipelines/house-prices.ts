import { definePipeline } from 'retrain/pipeline';

/** House prices: a regression example, so gates work on errors (lower is better) too. */
export default definePipeline({
  name: 'house-prices',
  description: 'Estimates a listing price from the listing',
  task: 'regression',
  source: { path: 'examples/data/house-prices.csv' },
  idColumn: 'listing_id',
  label: 'price',
  features: [
    { name: 'area_sqm', type: 'numeric' },
    { name: 'bedrooms', type: 'numeric' },
    { name: 'age_years', type: 'numeric' },
    { name: 'distance_km', type: 'numeric' },
    { name: 'neighbourhood', type: 'categorical' },
  ],
  holdout: { fraction: 0.2, seed: 11 },
  training: { params: { algorithm: 'ridge', alpha: 1.0 } },
  metrics: { primary: 'rmse', others: ['mae', 'r2'] },
  gates: [
    { metric: 'r2', min: 0.6 },
    { metric: 'rmse', maxRegression: 1000 },
  ],
  approval: { mode: 'manual', approvers: ['alice@example.com', 'bob@example.com'], timeout: '24h', onTimeout: 'reject' },
  owners: {
    monitoring: 'pricing-ml@example.com',
    retraining: 'pricing-ml@example.com',
    inference: 'listings-api@example.com',
    logging: 'data-eng@example.com',
  },
});
