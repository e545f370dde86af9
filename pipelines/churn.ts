import { definePipeline } from 'retrain/pipeline';

/** Customer churn: will a SaaS customer cancel? Retrained when the data changes or drifts. */
export default definePipeline({
  name: 'churn',
  description: 'Predicts which customers will cancel next month',
  task: 'classification',
  source: { path: 'examples/data/churn.csv' },
  idColumn: 'customer_id',
  label: 'churned',
  positiveClass: 'yes',
  features: [
    { name: 'tenure_months', type: 'numeric' },
    { name: 'monthly_spend', type: 'numeric' },
    { name: 'support_tickets', type: 'numeric' },
    { name: 'seats', type: 'numeric' },
    { name: 'plan', type: 'categorical' },
    { name: 'region', type: 'categorical' },
  ],
  holdout: { fraction: 0.25, seed: 7 },
  training: {
    command: ['$PYTHON', '$RETRAIN_HOME/training/train.py'],
    params: { algorithm: 'logistic_regression', C: 1.0 },
    seed: 42,
    timeout: '30m',
  },
  metrics: { primary: 'roc_auc', others: ['accuracy', 'f1', 'log_loss'] },
  gates: [
    { metric: 'roc_auc', min: 0.7, maxRegression: 0.01 },
    { metric: 'accuracy', min: 0.75 },
  ],
  approval: { mode: 'auto' },
  owners: {
    monitoring: 'ml-platform@example.com',
    retraining: 'growth-ml@example.com',
    inference: 'api-team@example.com',
    logging: 'data-eng@example.com',
  },
  drift: { window: '24h', datasetDriftShare: 0.5, onDrift: 'retrain' },
  schedule: { cron: '0 * * * *' },
});
