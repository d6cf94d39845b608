"""`python -m triage`: run the service until SIGTERM."""

from servicekit.service import run_service

from triage.bootstrap import bootstrap

if __name__ == "__main__":
    run_service("triage", bootstrap)
