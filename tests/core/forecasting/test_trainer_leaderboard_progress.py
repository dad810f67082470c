"""A leaderboard job's progress moves through the LSTM's epochs, the longest part of its run."""

from core.forecasting import trainer
from core.forecasting.engine import LEADERBOARD_KINDS
from core.jobs import run_job
from db.models.forecasting import JobStatus
from tests.accounts import make_account
from tests.core.test_jobs import job, open_job


def test_a_leaderboards_progress_advances_with_each_epoch_of_its_network(app_database, monkeypatch):
    # The bar sat at 89 % (8 of 9 model types) for most of the run: the LSTM comes last and takes longest.
    actor = make_account(app_database)
    job_id = open_job(actor, kind="leaderboard", status=JobStatus.QUEUED, model_type="auto", epochs=3, patience=3)
    said: list[tuple[float, str]] = []
    progress = trainer.TrainingRun._progress

    def recording(self, share: float, message: str) -> None:
        said.append((share, message))
        progress(self, share, message)

    monkeypatch.setattr(trainer.TrainingRun, "_progress", recording)
    assert run_job(str(job_id)) == "succeeded", job(job_id).error
    total = len(LEADERBOARD_KINDS)
    assert LEADERBOARD_KINDS[-1] == "lstm"
    epochs = [(share, message) for share, message in said if message.startswith("LSTM: ")]
    assert epochs == [((total - 1 + k / 3) / total, f"LSTM: epoch {k} of 3") for k in (1, 2, 3)]
    shares = [share for share, _ in said]
    assert shares == sorted(shares), "the bar never moves back"
    assert said[-1] == (1.0, f"{total} of {total} model types done")
