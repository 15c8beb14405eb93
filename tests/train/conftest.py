"""Session fixtures of the trainer tests: runs that several test modules start from."""
import pytest

from tests.train.image_helpers import finetune_image_folder


@pytest.fixture(scope="session")
def image_folder_run(tmp_path_factory):
    """One epoch on a fresh image folder, trained once per session: (trainer, its folder).
    Modules take a copy (``copy_image_folder_run``), never this folder itself."""
    tmp = tmp_path_factory.mktemp("image_folder_run")
    trainer, _, _ = finetune_image_folder(tmp)
    return trainer, tmp
