"""`python -m referral_intake`: run the service until SIGTERM."""

from servicekit.service import run_service

from referral_intake.bootstrap import bootstrap

if __name__ == "__main__":
    run_service("referral-intake", bootstrap)
