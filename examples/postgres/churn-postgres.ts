import { definePipeline } from 'retrain/pipeline';

/**
 * Customer churn read from PostgreSQL: `churn` with its rows in a table instead of a CSV file.
 * The table and a read-only user are in churn.sql beside this file; `npx retrain demo
 * --database-url postgres://…` creates and fills the table, then runs this pipeline.
 *
 * It lives in examples/, not pipelines/: a worker without CHURN_DATABASE_URL would fail every
 * run of it. To use it, copy it to pipelines/ and set CHURN_DATABASE_URL where the workers run.
 */
export default definePipeline({
  name: 'churn-pg',
  description: 'Predicts which customers will cancel next month, from the churn_customers table',
  task: 'classification',
  source: {
    kind: 'postgres',
    // The URL (with its password) stays in the workers' environment, never in this file.
    urlEnv: 'CHURN_DATABASE_URL',
    // ORDER BY a unique key: the same rows always give the same snapshot, so an unchanged table retrains nothing.
    query: `SELECT customer_id, tenure_months, monthly_spend, support_tickets, seats, plan, region, churned
            FROM churn_customers
            ORDER BY customer_id`,
  },
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
