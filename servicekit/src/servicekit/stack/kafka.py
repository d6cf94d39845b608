"""Apache Kafka 4.1 in KRaft mode, single node, from Maven Central jars."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import subprocess
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from servicekit.settings import REPO_ROOT, StackSettings
from servicekit.stack.proc import Log, StackError, read_pid, run, terminate

POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
]

LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {logdir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


class LocalKafka:
    def __init__(self, settings: StackSettings, log: Log) -> None:
        self.settings = settings
        self.log = log
        self.home = settings.dir / "kafka"
        self.lib = self.home / "lib"
        self.data = self.home / "data"
        self.logs = self.home / "logs"
        self.pidfile = self.home / "kafka.pid"
        self.properties = self.home / "server.properties"
        self.log4j = self.home / "log4j2.properties"

    @property
    def logfile(self) -> Path:
        return self.logs / "server.log"

    @property
    def outfile(self) -> Path:
        return self.logs / "server.out"

    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def ensure_jars(self) -> None:
        stamp = self.home / "lib.sha256"
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()
        if self.lib.is_dir() and stamp.exists() and stamp.read_text() == digest:
            return
        for tool in ("java", "mvn"):
            if shutil.which(tool) is None:
                raise StackError(f"`{tool}` is not on PATH; Kafka needs Java 17+ and Maven")
        self.log("fetching the Kafka broker jars from Maven Central (mvn copy-dependencies)")
        if self.lib.exists():
            shutil.rmtree(self.lib)
        self.lib.mkdir(parents=True)
        run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(POM),
                "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={self.lib}",
            ]
        )
        stamp.write_text(digest)

    def write_config(self) -> None:
        s = self.settings
        self.logs.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        controller = f"127.0.0.1:{s.kafka_controller_port}"
        client = f"127.0.0.1:{s.kafka_port}"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"PLAINTEXT://{client},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{client},CONTROLLER://{controller}",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data),
            "num.partitions": "3",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "12",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "log.retention.hours": "168",
        }
        self.properties.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        self.log4j.write_text(LOG4J2.format(logdir=self.logs))

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java",
            "-cp",
            f"{self.lib}/*",
            f"-Dlog4j2.configurationFile={self.log4j}",
            main,
            *args,
        ]

    def format_storage(self) -> None:
        if (self.data / "meta.properties").exists():
            return
        cluster_id = run(self._java(STORAGE_TOOL, "random-uuid")).strip().splitlines()[-1]
        self.log(f"formatting KRaft storage (cluster {cluster_id})")
        run(self._java(STORAGE_TOOL, "format", "--standalone", "-t", cluster_id, "-c", str(self.properties)))

    def up(self) -> None:
        if self.pid() is not None:
            self.log(f"kafka already running on {self.settings.local_kafka_bootstrap()}")
            wait_ready(self.settings.local_kafka_bootstrap(), self.settings.ready_timeout_s)
            return
        self.ensure_jars()
        self.write_config()
        self.format_storage()
        heap = self.settings.kafka_heap
        cmd = [
            "java",
            f"-Xms{heap}",
            f"-Xmx{heap}",
            *JVM_FLAGS,
            f"-Dlog4j2.configurationFile={self.log4j}",
            f"-Dkafka.logs.dir={self.logs}",
            "-cp",
            f"{self.lib}/*",
            MAIN_CLASS,
            str(self.properties),
        ]
        self.log(f"starting kafka on {self.settings.local_kafka_bootstrap()}")
        with self.outfile.open("ab") as out:
            proc = subprocess.Popen(  # noqa: S603
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.home,
            )
        self.pidfile.write_text(f"{proc.pid}\n")
        try:
            wait_ready(self.settings.local_kafka_bootstrap(), self.settings.ready_timeout_s, proc)
        except StackError:
            terminate(proc.pid, timeout_s=10)
            raise

    def down(self) -> None:
        pid = self.pid()
        if pid is None:
            self.log("kafka is not running")
            return
        terminate(pid, timeout_s=60)
        self.pidfile.unlink(missing_ok=True)
        self.log("kafka stopped")


async def _probe(bootstrap: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        return len(cluster["brokers"])
    finally:
        await admin.close()


def kafka_ready(bootstrap: str) -> bool:
    # A refused connection is the expected answer while the broker starts; don't log it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(asyncio.wait_for(_probe(bootstrap), 10)) > 0
    except (KafkaError, OSError, TimeoutError):
        return False


def wait_ready(bootstrap: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Ready means a client's metadata request is answered with a live broker."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"kafka exited with code {proc.returncode} during start-up")
        if kafka_ready(bootstrap):
            return
        time.sleep(0.5)
    raise StackError(f"kafka at {bootstrap} not ready after {timeout_s}s")
