// SPDX-License-Identifier: GPL-3.0-or-later
#include "settingsdialog.h"

#include "theme.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QSettings>
#include <QVBoxLayout>

namespace dispatch::views {

SettingsDialog::SettingsDialog(QWidget *parent) : QDialog(parent)
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    auto *layout = new QVBoxLayout(this);

    auto *appearance = new QGroupBox(tr("Appearance"), this);
    auto *form = new QFormLayout(appearance);
    m_theme = new QComboBox(appearance);
    m_theme->setObjectName(QStringLiteral("themeCombo"));
    m_theme->addItem(tr("System"), themeKey(Theme::System));
    m_theme->addItem(tr("Light"), themeKey(Theme::Light));
    m_theme->addItem(tr("Dark"), themeKey(Theme::Dark));
    form->addRow(tr("&Theme:"), m_theme);
    auto *hint = new QLabel(tr("\"System\" follows the desktop's light or dark palette at start-up."), appearance);
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);
    form->addRow(QString(), hint);
    layout->addWidget(appearance);

    auto *server = new QGroupBox(tr("Local server"), this);
    auto *serverLayout = new QVBoxLayout(server);
    m_startServer = new QCheckBox(tr("&Start the local server when the console starts"), server);
    m_startServer->setObjectName(QStringLiteral("startServerCheck"));
    m_keepRunning = new QCheckBox(tr("&Leave the local server running when the console exits"), server);
    m_keepRunning->setObjectName(QStringLiteral("keepRunningCheck"));
    serverLayout->addWidget(m_startServer);
    serverLayout->addWidget(m_keepRunning);
    layout->addWidget(server);
    layout->addStretch(1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);
    layout->addWidget(buttons);

    QSettings settings;
    const QString key = settings.value(QLatin1String(ConsoleSettings::kTheme), themeKey(Theme::System)).toString();
    m_theme->setCurrentIndex(std::max(0, m_theme->findData(key)));
    m_startServer->setChecked(settings.value(QLatin1String(ConsoleSettings::kStartServer), true).toBool());
    m_keepRunning->setChecked(settings.value(QLatin1String(ConsoleSettings::kKeepServerRunning), false).toBool());
    resize(sizeHint().expandedTo(QSize(440, 0)));
}

void SettingsDialog::accept()
{
    QSettings settings;
    const QString key = m_theme->currentData().toString();
    const bool changed = settings.value(QLatin1String(ConsoleSettings::kTheme)).toString() != key;
    settings.setValue(QLatin1String(ConsoleSettings::kTheme), key);
    settings.setValue(QLatin1String(ConsoleSettings::kStartServer), m_startServer->isChecked());
    settings.setValue(QLatin1String(ConsoleSettings::kKeepServerRunning), m_keepRunning->isChecked());
    applyTheme(themeFromKey(key));
    if (changed)
        emit themeChanged();
    QDialog::accept();
}

} // namespace dispatch::views
