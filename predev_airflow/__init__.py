"""Apache Airflow provider for pre.dev: `PreDevHook`, `PreDevCreditsSensor`,
`PreDevCreditsTrigger` and `PreDevCreditsCheckOperator`. Nothing is imported here, so the
providers manager's discovery stays cheap."""
