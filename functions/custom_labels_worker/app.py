"""The custom labels training workers (CustomLabelsTraining, CustomLabelsFeatures): Task states of the
custom labels training state machine."""

from recognito.custom_labels.training.flow import run


def handler(event: dict, context: object) -> dict:
    return run(event)
