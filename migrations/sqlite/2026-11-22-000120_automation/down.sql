DROP TABLE webhook_deliveries;
DROP TABLE trigger_firings;
DROP TABLE trigger_round_robin;
DROP TABLE triggers;
