// SPDX-License-Identifier: GPL-3.0-or-later
#include "imagespanel.h"

#include "baseimagesmodel.h"
#include "demo.h"
#include "formdialog.h"
#include "imagesmodel.h"
#include "restclient.h"
#include "validation.h"
#include "workspace.h"

#include <QAction>
#include <QLineEdit>
#include <QToolBar>

namespace dispatch::views {

namespace {

QString str(const nlohmann::json &o, const char *key)
{
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

QAction *addSeedAction(QToolBar *bar, Demo *demo, QObject *owner)
{
    bar->addSeparator();
    auto *seed = bar->addAction(QObject::tr("Seed &images"));
    seed->setObjectName(QStringLiteral("seedImagesButton"));
    seed->setToolTip(QObject::tr("Create the standard base images and images (nodejs, python3, powershell, java)"));
    QObject::connect(seed, &QAction::triggered, owner, [demo] { demo->seedImages(); });
    return seed;
}

template<typename View>
void submitSimple(View *view, Workspace *ws, FormDialog *f, bool editing, const QString &path, const QString &itemPath,
                  const nlohmann::json &body)
{
    QPointer<FormDialog> guard(f);
    auto done = [view, guard](const models::ApiResult &r) {
        if (!guard)
            return;
        if (!r.ok()) {
            guard->fail(r.errorMessage);
            return;
        }
        view->applyAndSelectPublic(r.json);
        guard->succeed();
    };
    if (editing)
        ws->client()->put(itemPath, body, f, done);
    else
        ws->client()->post(path, body, f, done);
}

} // namespace

ImagesView::ImagesView(Workspace *workspace, Demo *demo, QWidget *parent)
    : ResourceView(workspace, workspace->images(), tr("image"), tr("images"), parent)
{
    addSeedAction(toolBar(), demo, this);
}

QString ImagesView::emptyText() const
{
    return tr("No images yet.\nFunctions are built on an image, and images on a base image.\n\u201cSeed images\u201d "
              "creates nodejs, python3, powershell and java in one click.");
}

QList<QPair<QString, QString>> ImagesView::keyFields(const Json &o) const
{
    const QStringList users = workspace()->usersOfImage(str(o, "name"));
    QString manifest;
    if (o.contains("runtimeDependencies") && o["runtimeDependencies"].is_object())
        manifest = str(o["runtimeDependencies"], "manifest");
    return {{tr("Base image:"), str(o, "baseImageName")},
            {tr("Language:"), str(o, "language")},
            {tr("Dependencies:"), manifest.isEmpty() ? tr("none") : manifest},
            {tr("Used by:"), users.isEmpty() ? tr("no functions") : users.join(QStringLiteral(", "))}};
}

QStringList ImagesView::dependantsOf(const QString &name) const
{
    return workspace()->usersOfImage(name);
}

void ImagesView::openForm(const Json &existingIn)
{
    // Reading a null document throws in nlohmann::json: a new item starts from an empty object.
    const Json existing = existingIn.is_object() ? existingIn : Json::object();
    const bool editing = existingIn.is_object();
    const QString name = editing ? str(existing, "name") : QString();
    auto *form = new FormDialog(editing ? tr("Edit image %1").arg(name) : tr("New image"), workspace(), this);
    form->setObjectName(QStringLiteral("imageForm"));
    form->setAttribute(Qt::WA_DeleteOnClose);
    form->addLine(QStringLiteral("name"), tr("&Name:"), name, checkName)->setReadOnly(editing);
    form->addCombo(QStringLiteral("base"), tr("&Base image:"), workspace()->baseImages()->names(),
                   str(existing, "baseImageName"), true, [this](const QString &v) {
                       if (v.isEmpty())
                           return tr("Choose a base image.");
                       if (workspace()->baseImages()->rowOf(v) < 0)
                           return tr("There is no base image %1 on this server.").arg(v);
                       return QString();
                   });
    QString manifest;
    if (editing && existing.contains("runtimeDependencies") && existing["runtimeDependencies"].is_object())
        manifest = str(existing["runtimeDependencies"], "manifest");
    form->addText(QStringLiteral("manifest"), tr("&Dependencies:"), manifest);
    form->addNote(tr("The language's manifest: requirements.txt for python3, package.json for nodejs, pom.xml for java."));
    form->setSubmit([this, editing, name, existing](FormDialog *f) {
        nlohmann::json body = editing ? existing : nlohmann::json::object();
        for (const char *k : {"status", "reason", "kind", "id", "createdTime", "dockerUrl"})
            body.erase(k);
        body["name"] = f->value(QStringLiteral("name")).trimmed().toStdString();
        body["baseImageName"] = f->value(QStringLiteral("base")).trimmed().toStdString();
        body["runtimeDependencies"] = {{"manifest", f->value(QStringLiteral("manifest")).toStdString()}};
        submitSimple(this, workspace(), f, editing, QStringLiteral("/v1/image"), QStringLiteral("/v1/image/%1").arg(name),
                     body);
    });
    m_form = form;
    form->open();
}

BaseImagesView::BaseImagesView(Workspace *workspace, Demo *demo, QWidget *parent)
    : ResourceView(workspace, workspace->baseImages(), tr("base image"), tr("base images"), parent)
{
    addSeedAction(toolBar(), demo, this);
}

QString BaseImagesView::emptyText() const
{
    return tr("No base images yet.\n\u201cSeed images\u201d creates the standard ones (nodejs, python3, powershell, "
              "java).");
}

QList<QPair<QString, QString>> BaseImagesView::keyFields(const Json &o) const
{
    const QStringList users = workspace()->usersOfBaseImage(str(o, "name"));
    return {{tr("Docker URL:"), str(o, "dockerUrl")},
            {tr("Language:"), str(o, "language")},
            {tr("Used by:"), users.isEmpty() ? tr("no images") : users.join(QStringLiteral(", "))}};
}

QStringList BaseImagesView::dependantsOf(const QString &name) const
{
    return workspace()->usersOfBaseImage(name);
}

void BaseImagesView::openForm(const Json &existingIn)
{
    // Reading a null document throws in nlohmann::json: a new item starts from an empty object.
    const Json existing = existingIn.is_object() ? existingIn : Json::object();
    const bool editing = existingIn.is_object();
    const QString name = editing ? str(existing, "name") : QString();
    auto *form = new FormDialog(editing ? tr("Edit base image %1").arg(name) : tr("New base image"), workspace(), this);
    form->setObjectName(QStringLiteral("baseImageForm"));
    form->setAttribute(Qt::WA_DeleteOnClose);
    form->addLine(QStringLiteral("name"), tr("&Name:"), name, checkName)->setReadOnly(editing);
    form->addLine(QStringLiteral("dockerUrl"), tr("&Docker URL:"), str(existing, "dockerUrl"),
                  [](const QString &v) { return v.trimmed().isEmpty() ? tr("A Docker URL or local:<runtime> is required.") : QString(); },
                  tr("dispatchframework/python3-base:0.0.13 or local:python3"));
    form->addCombo(QStringLiteral("language"), tr("&Language:"),
                   {QStringLiteral("python3"), QStringLiteral("nodejs"), QStringLiteral("java"), QStringLiteral("powershell")},
                   str(existing, "language"), true);
    form->setSubmit([this, editing, name, existing](FormDialog *f) {
        nlohmann::json body = editing ? existing : nlohmann::json::object();
        for (const char *k : {"status", "reason", "kind", "id", "createdTime"})
            body.erase(k);
        body["name"] = f->value(QStringLiteral("name")).trimmed().toStdString();
        body["dockerUrl"] = f->value(QStringLiteral("dockerUrl")).trimmed().toStdString();
        body["language"] = f->value(QStringLiteral("language")).trimmed().toStdString();
        submitSimple(this, workspace(), f, editing, QStringLiteral("/v1/baseimage"),
                     QStringLiteral("/v1/baseimage/%1").arg(name), body);
    });
    m_form = form;
    form->open();
}

ImagesPanel::ImagesPanel(Workspace *workspace, Demo *demo, QWidget *parent)
    : ResourcePanel(tr("Images"), tr("Images are what functions are built on; each comes from a base image (a "
                                     "language runtime)."),
                    workspace, parent)
{
    m_images = new ImagesView(workspace, demo, this);
    m_baseImages = new BaseImagesView(workspace, demo, this);
    addView(m_images, tr("Images"));
    addView(m_baseImages, tr("Base images"));
}

} // namespace dispatch::views
