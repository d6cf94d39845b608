"""`python -m outcomes`: run the service until SIGTERM."""

from servicekit.service import run_service

from outcomes.bootstrap import bootstrap

if __name__ == "__main__":
    run_service("outcomes", bootstrap)
