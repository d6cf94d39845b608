"""The local stack: Apache Kafka (KRaft) and PostgreSQL as processes on this machine."""
