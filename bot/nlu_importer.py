"""The base of Heard's training-data importers (config.yml, `importers:`): each adds NLU
examples only, next to Rasa's `RasaFileImporter`, which still reads data/ and the domain."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Union

import rasa.shared.data
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.importers.utils import training_data_from_paths
from rasa.shared.nlu.training_data.message import Message


class NluOnlyImporter(TrainingDataImporter):
    """Contributes NLU examples (`get_nlu_data`, in the subclass) and nothing else."""

    def __init__(self, training_data_paths: Optional[Union[List[Text], Text]]) -> None:
        self._nlu_files = rasa.shared.data.get_data_files(
            training_data_paths, rasa.shared.data.is_nlu_file
        )

    def project_examples(self) -> List[Message]:
        """The intent examples of the project's own NLU files (data/)."""
        return training_data_from_paths(self._nlu_files, "en").intent_examples

    def get_domain(self) -> Domain:
        return Domain.empty()

    def get_stories(self, exclusion_percentage: Optional[int] = None) -> StoryGraph:
        return StoryGraph([])

    def get_conversation_tests(self) -> StoryGraph:
        return StoryGraph([])

    def get_config(self) -> Dict[Text, Any]:
        return {}

    def get_config_file_for_auto_config(self) -> Optional[Text]:
        return None
