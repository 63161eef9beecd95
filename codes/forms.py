"""Forms of the knowledge pages: the search box and an operator's runbook note."""

from django import forms

from codes.models import RunbookNote


class CodeSearchForm(forms.Form):
    q = forms.CharField(
        label="Code, name or words",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "0x8024000B, -2145107957, WU_E_…, timeout"}
        ),
    )
    curated = forms.BooleanField(label="Curated pages only", required=False)


class RunbookNoteForm(forms.ModelForm):
    class Meta:
        model = RunbookNote
        fields = ["body"]
        labels = {"body": "Add a runbook note"}
        widgets = {
            "body": forms.Textarea(
                attrs={"rows": 4, "placeholder": "What worked for this code in our fleet"}
            )
        }

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("A note cannot be empty.")
        if len(body) > 10_000:
            raise forms.ValidationError(
                f"A note can be at most 10,000 characters (this one has {len(body):,})."
            )
        return body
