// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryImageWriter.h"

#include "vtkDataArray.h"
#include "vtkErrorCode.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"

#include "shared_memory_image.h"
#include "vtkSharedMemoryImageFormats.h"
#include "vtkSharedMemoryStreamServer.h"

#include <unistd.h>

#include <chrono>
#include <string>

vtkStandardNewMacro(vtkSharedMemoryImageWriter);

// The served stream, kept open from one Write() to the next.
struct vtkSharedMemoryImageWriter::vtkInternals
{
  vtkSharedMemoryStreamServer Server;
  vtkTypeUInt32 LastFrame = 0;

  void Close() { this->Server.Close(); }

  // Publish the frame `desc` describes, at `pixels`, serving self's FileName
  // (created or grown as needed); 1, or 0 with self's error code set and
  // reported.
  int PutFrame(
    vtkSharedMemoryImageWriter* self, const SharedMemoryImageDesc& desc, const void* pixels)
  {
    // Attempt 0 publishes on the open stream; when the frame is too large (or
    // the file was truncated), attempt 1 grows the file and serves it again
    // (that gives bigger buffers only while no client is attached); when the
    // frame is still too large, attempt 2 replaces the
    // file by a new one (clients attached to the old file must attach again, as
    // vtkSharedMemoryImageSource does by itself).
    for (int attempt = 0; attempt < 3; ++attempt)
    {
      if (!this->Server.Stream())
      {
        // Not serving it (yet): create or grow the file so that the frame fits.
        const SharedMemoryImageError rc =
          this->Server.Serve(self->FileName, self->EnSightLayout, desc);
        if (rc < IMAGESTREAM_NOERROR)
        {
          vtkErrorWithObjectMacro(
            self, << "cannot serve " << self->FileName << ": "
                  << vtkSharedMemoryStreamServer::ErrorText(self->FileName, rc));
          self->SetErrorCode(vtkErrorCode::CannotOpenFileError);
          return 0;
        }
      }

      const SharedMemoryImageError rc = SharedMemoryImageStream_putframeformat(
        this->Server.Stream(), &desc, this->LastFrame + 1, pixels);
      if (rc == IMAGESTREAM_BAD_FILE_SIZE && attempt == 0)
      {
        // The file was truncated under the stream: set it up anew (clients
        // that still map it see the new server, as after a restart).
        vtkWarningWithObjectMacro(self, << "the stream file " << self->FileName
                                        << " was truncated under its server; setting it up again");
        this->Close();
        continue;
      }
      if (rc == IMAGESTREAM_FRAME_TOO_LARGE && attempt < 2)
      {
        this->Close();
        if (attempt == 1)
        {
          vtkWarningWithObjectMacro(
            self, << "a " << desc.width << "x" << desc.height << "x" << desc.depth << " "
                  << SharedMemoryImageStream_formatname(desc.format)
                  << " frame does not fit the buffers of " << self->FileName
                  << " while clients are attached: replacing it by a larger file "
                     "(clients must attach again)");
          unlink(self->FileName);
        }
        continue;
      }
      if (rc < IMAGESTREAM_NOERROR)
      {
        vtkErrorWithObjectMacro(self, << "cannot publish to " << self->FileName << ": "
                                      << SharedMemoryImageStream_errorstring(rc));
        self->SetErrorCode(vtkErrorCode::UnknownError);
        return 0;
      }
      // NOERROR, UNCONNECTED or NO_BUFFERAVAILABLE: normal for a live stream.
      this->LastFrame = this->Server.LastFrame();
      return 1;
    }
    return 0;
  }
};

namespace
{
// Stream format of an image's scalars, or -1 (and *why) when not publishable.
int SMIFormatOf(vtkDataArray* scalars, const char** why)
{
  if (!scalars)
  {
    *why = "the input has no point scalars";
    return -1;
  }
  const int type = scalars->GetDataType();
  const int comps = scalars->GetNumberOfComponents();
  const int format = smi::FormatOfVTKType(type, comps);
  if (format >= 0)
  {
    return format;
  }
  if (type == VTK_UNSIGNED_CHAR)
  {
    *why = "unsigned char scalars must have 1, 3 or 4 components";
    return -1;
  }
  if (smi::FormatOfVTKType(type, 1) >= 0)
  {
    *why = "short, int, unsigned short, unsigned int, float and double scalars must have 1 "
           "component";
    return -1;
  }
  *why = "the scalar type must be unsigned char (1, 3 or 4 components), or short, int, "
         "unsigned short, unsigned int, float or double (1 component)";
  return -1;
}

double SMIUnixTime()
{
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// The frame `input` makes, in the EnSight layout or not: its description
// into *desc (format, size, spacing, origin, now as its time) and its
// pixels into *pixels. Empty, or why it cannot be published.
std::string SMIDescribeFrame(
  vtkImageData* input, bool enSight, SharedMemoryImageDesc* desc, const void** pixels)
{
  vtkDataArray* scalars = input->GetPointData()->GetScalars();
  const char* why = "";
  const int format = SMIFormatOf(scalars, &why);
  if (format < 0)
  {
    return scalars ? std::string(why) + " (got " + scalars->GetDataTypeAsString() + ", " +
        std::to_string(scalars->GetNumberOfComponents()) + " components)"
                   : std::string(why);
  }

  int dims[3];
  input->GetDimensions(dims);
  if (dims[0] <= 0 || dims[1] <= 0 || dims[2] <= 0 ||
    scalars->GetNumberOfTuples() != static_cast<vtkIdType>(dims[0]) * dims[1] * dims[2])
  {
    return "the input image is empty";
  }
  if (enSight && (format != IMAGESTREAM_FORMAT_RGB8 || dims[2] != 1))
  {
    return "EnSight's layout takes only 2-D RGB images (unsigned char, 3 components, one "
           "slice); turn EnSightLayout off for other images";
  }

  // Rows are bottom first in VTK, and stored so: the frame says it
  // (IMAGESTREAM_FRAME_BOTTOMUP), a VTK reader uses it as it is and others
  // turn it upright; the EnSight layout, always top row first, gets it
  // reversed while it is copied.
  *desc = SMI_DESC_INIT;
  desc->flags = IMAGESTREAM_FRAME_BOTTOMUP;
  desc->format = static_cast<uint32_t>(format);
  desc->width = static_cast<uint32_t>(dims[0]);
  desc->height = static_cast<uint32_t>(dims[1]);
  desc->depth = static_cast<uint32_t>(dims[2]);
  desc->timestamp = SMIUnixTime();
  input->GetSpacing(desc->spacing);
  // The origin of the first pixel, extent offsets included.
  int extent[6];
  input->GetExtent(extent);
  input->TransformIndexToPhysicalPoint(extent[0], extent[2], extent[4], desc->origin);
  *pixels = scalars->GetVoidPointer(0);
  return std::string();
}
}

//------------------------------------------------------------------------------
vtkSharedMemoryImageWriter::vtkSharedMemoryImageWriter()
  : Internals(new vtkInternals)
{
}

//------------------------------------------------------------------------------
vtkSharedMemoryImageWriter::~vtkSharedMemoryImageWriter()
{
  this->Internals->Close();
  this->SetFileName(nullptr);
}

//------------------------------------------------------------------------------
int vtkSharedMemoryImageWriter::FillInputPortInformation(int, vtkInformation* info)
{
  info->Set(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkImageData");
  return 1;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryImageWriter::ReleaseStream()
{
  this->Internals->Close();
}

//------------------------------------------------------------------------------
vtkTypeUInt32 vtkSharedMemoryImageWriter::GetLastFrameNumber()
{
  return this->Internals->LastFrame;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryImageWriter::WriteData()
{
  this->SetErrorCode(vtkErrorCode::NoError);
  this->Publish(vtkImageData::SafeDownCast(this->GetInput()));
}

//------------------------------------------------------------------------------
int vtkSharedMemoryImageWriter::Publish(vtkImageData* input)
{
  vtkInternals& internals = *this->Internals;
  if (!this->FileName || !*this->FileName)
  {
    vtkErrorMacro(<< "no FileName: set the stream file to serve");
    this->SetErrorCode(vtkErrorCode::NoFileNameError);
    return 0;
  }
  if (!input)
  {
    vtkErrorMacro(<< "the input is not vtkImageData");
    this->SetErrorCode(vtkErrorCode::UnknownError);
    return 0;
  }
  SharedMemoryImageDesc desc = SMI_DESC_INIT;
  const void* pixels = nullptr;
  const std::string why = SMIDescribeFrame(input, this->EnSightLayout, &desc, &pixels);
  if (!why.empty())
  {
    vtkErrorMacro(<< "cannot publish to " << this->FileName << ": " << why);
    this->SetErrorCode(vtkErrorCode::UnknownError);
    return 0;
  }
  if (internals.Server.Stream() && !internals.Server.Serves(this->FileName, this->EnSightLayout))
  {
    internals.Close();
  }
  return internals.PutFrame(this, desc, pixels);
}

//------------------------------------------------------------------------------
void vtkSharedMemoryImageWriter::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << (this->FileName ? this->FileName : "(none)") << "\n";
  os << indent << "EnSightLayout: " << (this->EnSightLayout ? "On" : "Off") << "\n";
  os << indent << "Serving: "
     << (this->Internals->Server.Stream() ? this->Internals->Server.FileName().c_str() : "(nothing)")
     << "\n";
  os << indent << "LastFrameNumber: " << this->Internals->LastFrame << "\n";
}
