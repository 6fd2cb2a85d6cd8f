import json
import shutil

from training.default import staleness


def test_a_default_model_without_operating_points_is_retrained(
    mini_trained_dir, tmp_path, monkeypatch
):
    folder = tmp_path / "default"
    shutil.copytree(mini_trained_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    # as if the bundled labels were the ones this model was trained on
    monkeypatch.setattr(
        "training.dataset.fingerprint", lambda *a: manifest["training_data"]["fingerprint"]
    )
    assert staleness(folder) is None
    del manifest["operating_points"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert "predates moderation decisions" in staleness(folder)
