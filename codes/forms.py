"""Forms of the knowledge pages: the search box and an operator's runbook note."""

from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from codes.models import RunbookNote
from codes.notes import NoteAccess

# The form value of "all tenants"; tenant choices are primary keys, so it cannot collide.
ALL_TENANTS = "all"


class CodeSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Code, name or words"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": gettext_lazy("0x8024000B, -2145124341, WU_E_…, timeout"),
            }
        ),
    )
    curated = forms.BooleanField(label=gettext_lazy("Curated pages only"), required=False)


class RunbookNoteForm(forms.ModelForm):
    """A note's text and whom it is for: one of the writer's tenants, or all of them for
    someone granted every tenant. The choices are the writer's grants at the time of the POST,
    so naming any other tenant is refused here, not trusted from the page."""

    # A select, checked in clean_tenant so each refusal says what was wrong.
    tenant = forms.CharField(
        label=gettext_lazy("Shown to the operators of"),
        widget=forms.Select,
        error_messages={"required": gettext_lazy("Pick the tenant this note is for.")},
    )

    class Meta:
        model = RunbookNote
        fields = ["body"]
        labels = {"body": gettext_lazy("Add a runbook note")}
        widgets = {
            "body": forms.Textarea(
                attrs={
                    "rows": 4,
                    "placeholder": gettext_lazy("What worked for this code in our fleet"),
                }
            )
        }

    def __init__(self, *args, access: NoteAccess, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.access = access
        choices = [(str(tenant.pk), tenant.name) for tenant in access.writable]
        if access.writes_every_tenant:
            choices.append((ALL_TENANTS, _("All tenants (only operators granted every tenant)")))
        field = self.fields["tenant"]
        if len(access.writable) == 1:
            # Their only tenant is the default, on the page and for a POST that names none.
            field.initial, field.required = str(access.writable[0].pk), False
        else:
            choices.insert(0, ("", _("Pick a tenant…")))
            field.required = self.may_write  # with no tenant at all, clean() says why, once
        field.widget.choices = choices

    @property
    def may_write(self) -> bool:
        """False for someone granted no tenant: there is nobody they could write for."""
        return bool(self.access.writable)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("A note cannot be empty."))
        if len(body) > 10_000:
            raise forms.ValidationError(
                _("A note can be at most %(limit)s characters (this one has %(length)s).")
                % {"limit": intcomma(10_000), "length": intcomma(len(body))}
            )
        return body

    def clean_tenant(self) -> str:
        picked = self.cleaned_data["tenant"] or (self.fields["tenant"].initial or "")
        if not self.may_write:
            return picked  # clean() refuses the whole note, once
        if picked == ALL_TENANTS:
            if not self.access.writes_every_tenant:
                raise forms.ValidationError(
                    _("Only an operator granted every tenant may write an all-tenants note.")
                )
        elif picked not in {str(tenant.pk) for tenant in self.access.writable}:
            raise forms.ValidationError(_("You are not granted that tenant: pick one of yours."))
        return picked

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.may_write:
            raise forms.ValidationError(
                _(
                    "You are not granted any tenant, so there is nobody to share a note with: "
                    "ask an administrator for a tenant grant."
                )
            )
        return cleaned

    def save(self, commit: bool = True) -> RunbookNote:
        note = super().save(commit=False)
        picked = self.cleaned_data["tenant"]
        note.all_tenants = picked == ALL_TENANTS
        note.tenant = (
            None
            if note.all_tenants
            else next(t for t in self.access.writable if str(t.pk) == picked)
        )
        if commit:
            note.save()
        return note
